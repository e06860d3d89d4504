"""Controller tests of cloud turns use the replay server of :mod:`helpers.cloud_replay`."""

from helpers.cloud_replay import cloud, memory_keyring, qloop, server  # noqa: F401 (fixtures)
