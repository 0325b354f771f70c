"""ggk.web: the web foundation (accounts, sessions, CSRF, login, roles, audit, mail, layout) shared
by the municipality portal and later web applications. The contract is `interfaces.py`."""
