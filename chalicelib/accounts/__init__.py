"""Accounts: who may use Herald, and the settings their requests need.

    credentials.py  the Account, and the per-container cache of accounts, AuthToken digests
                    and API keys that authentication and every request read

HTTP authentication (the Basic header) is the web layer's (chalicelib.web.routing); the
items themselves are storage's (chalicelib.storage.accounts).
"""
