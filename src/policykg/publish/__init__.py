"""Publishing the dataset whole: VoID and DCAT-AP, the change stream (LDES), dumps, backups and restores."""
