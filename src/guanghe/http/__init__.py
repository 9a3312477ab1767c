"""What the two HTTP adapters share: request dependencies (:mod:`~guanghe.http.deps`), the
status each error maps to (:mod:`~guanghe.http.statuses`) and reading uploads
(:mod:`~guanghe.http.uploads`).

``guanghe.api`` and ``guanghe.web`` both import this package and never each other;
:mod:`guanghe.app` assembles them into one application.
"""
