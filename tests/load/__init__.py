"""Load test: locust users and the runner (`make loadtest`)."""
