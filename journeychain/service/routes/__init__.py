"""One router per resource: journeys, jobs, subscriptions."""
