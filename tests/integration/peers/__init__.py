"""Real peers for integration tests: baresip over ctrl_tcp, pyVoIP in threads, Mosquitto, waits."""
