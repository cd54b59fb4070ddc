"""Loans and renewals: maturities, reminders a month ahead, renewal cases, the bridge fund."""
