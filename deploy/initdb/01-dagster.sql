-- Dagster keeps its run/event/schedule storage in its own database beside vidassets'.
CREATE DATABASE dagster OWNER vidassets;
