"""Who may pass: the role gate in front of every staff route and the server-side staff sessions.

Moderation (login, accounts) and research (the statistics pages for staff) both stand behind it,
so it belongs to neither.
"""
