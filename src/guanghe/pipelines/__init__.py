"""Batch jobs of the daily cycle that read the event log and write dated snapshots."""
