"""The CBS period dashboard (`ggk dashboard serve`): the collection managers' web view of every
municipality x statistic x dataset, with extension and reminder actions. See docs/dashboard.md."""
