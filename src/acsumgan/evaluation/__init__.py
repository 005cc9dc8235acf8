"""acsumgan."""
