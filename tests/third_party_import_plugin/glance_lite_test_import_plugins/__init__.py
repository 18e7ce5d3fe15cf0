"""An import plugin installed only for glance-lite's tests.

It is loaded through its entry point, as a third party's would be.
"""
