"""Accounts: who may use Herald, and the settings their requests need.

    model.py        the Account: its Sid and the settings requests need from its item
    credentials.py  whether a username and password open an account, and the account's
                    settings, from a per-container cache (so a request reads no item)

HTTP authentication (the Basic header) is the web layer's (chalicelib.web.auth); the items
themselves are storage's (chalicelib.storage.accounts).
"""
