"""ggk.portal: the municipality portal (`ggk portal serve`), built on ggk.web. Contract:
`interfaces.py`."""
