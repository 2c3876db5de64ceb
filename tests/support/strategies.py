"""Hypothesis strategies the retry tests share: any policy, any error a provider gives."""

from __future__ import annotations

from hypothesis import strategies as st

import payerr
from payerr._errors import error_class

policies = st.builds(
    payerr.RetryPolicy,
    max_attempts=st.integers(1, 20),
    backoff_initial=st.floats(0, 5),
    backoff_max=st.floats(0, 60),
    deadline=st.floats(0, 120),
    max_retry_after=st.floats(0, 120),
)
errors = st.builds(
    lambda hint, retry_after, category: error_class(category, "wechat")(
        "x", provider="wechat", retry=hint, retry_after=retry_after
    ),
    st.sampled_from(list(payerr.RetryHint)),
    st.none() | st.floats(0, 1000),
    st.sampled_from(list(payerr.Category)),
)
