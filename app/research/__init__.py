"""Research and statistics: counting coded incidents, protecting small cells, exports, charts.

Only moderator-verified, coded incidents that are no one's duplicate are counted; every table
names the codebook version and the verification statuses it counts.
"""
