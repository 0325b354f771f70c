"""The hub operator's console (`ggk console serve`): channel health per party, the audit trail of
any message, certificates that expire, and the onboarding checklist. See docs/dashboard.md."""
