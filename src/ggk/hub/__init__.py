"""The data hub: routes messages between parties identified by OIN (Digikoppeling style).

Mutual TLS, mailboxes with cursors and long polling, signed receipts, resumable large-file
transfer (tus up, HTTP Range down). It never reads a payload and knows nothing about statistics.
"""
