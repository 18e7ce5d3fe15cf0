"""Store drivers installed only for glance-lite's tests.

Each is loaded through its entry point, as a third party's would be.
"""
