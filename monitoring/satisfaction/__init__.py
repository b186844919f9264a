"""Satisfaction: the follow-ups of "dissatisfied" ratings (services, selectors);
the shares per office are read by monitoring.dashboard."""
