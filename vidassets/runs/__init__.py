"""An execution's way into Dagster: accepting a plan (``submit``), launching its run (``launch``,
the one place runs are launched from outside Dagster) and planning re-renders (``rerender``)."""
