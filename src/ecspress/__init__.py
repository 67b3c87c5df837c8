"""ecspress: the Python driver of the ecspress.wordpress Ansible collection."""

__version__ = "0.1.0"
