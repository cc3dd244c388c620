"""Synthetic demonstration data (complaints, risk factors), always marked `demo`, and
`vigia demo-data`.
"""
