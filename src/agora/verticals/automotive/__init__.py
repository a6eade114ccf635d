"""The automotive vertical: vehicle data by registration (DVLA and DVSA, or the offline
fixture), the customer's garage, vehicles on bookings and MOT-due reminders.

It sits above `bookings` and `catalog` and adds to them through their services.
"""
