"""An example subscriber of the ICAM topics, for the government systems that follow them."""
