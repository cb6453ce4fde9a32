"""Alert delivery channels (email, webhook), their rendering, retry schedule and daily digest.

The notify worker decides what to deliver and when; these modules only carry one attempt out
and say, through DeliveryFailed, whether another attempt could succeed.
"""
