"""Background workers the app runs beside the requests: the reminder dispatcher."""
