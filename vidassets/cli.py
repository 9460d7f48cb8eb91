"""``vidassets`` command line: migrate, run the embedded stack, run the demo, keys, re-render, restore."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from vidassets.settings import Settings, get_settings


def cmd_migrate(_: argparse.Namespace) -> int:
    from vidassets.storage.migrate import upgrade

    settings = get_settings()
    upgrade(settings.resolved_database_url)
    print(f"database migrated: {settings.resolved_database_url.split('@')[-1]}")
    return 0


def local_api_key(settings: Settings) -> str:
    """The embedded default's key: created on first run, kept in data_dir/api_key (mode 0600)."""
    from vidassets.storage.keys import ApiKeyRepository

    repo = ApiKeyRepository(settings.resolved_database_url)
    path = settings.data_dir / "api_key"
    if path.exists():
        key = path.read_text().strip()
        if repo.verify(key) is not None:
            return key
    key, _ = repo.create(settings.default_tenant, "local (created by vidassets run)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return key


def cmd_keys(args: argparse.Namespace) -> int:
    from vidassets.storage.keys import ApiKeyRepository
    from vidassets.storage.migrate import upgrade

    settings = get_settings()
    upgrade(settings.resolved_database_url)
    repo = ApiKeyRepository(settings.resolved_database_url)
    if args.action == "create":
        key, row = repo.create(args.tenant, args.name, args.rate_limit)
        print(f"created key {row.id} for tenant {row.tenant_id}; it is shown once:\n{key}")
    elif args.action == "list":
        for row in repo.list(args.tenant):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            print(f"{row.id}  tenant={row.tenant_id}  name={row.name!r}  {state}  "
                  f"limit={row.rate_limit_per_min or settings.rate_limit_per_min}/min  "
                  f"last used={row.last_used_at or '-'}")
    else:
        if not repo.revoke(args.key_id):
            print(f"no active key {args.key_id}", file=sys.stderr)
            return 1
        print(f"revoked {args.key_id}")
    return 0


def cmd_rerender(args: argparse.Namespace) -> int:
    from vidassets.plan.operations import AssetKind
    from vidassets.runs.launch import DagsterLauncher
    from vidassets.runs.rerender import launch_rerender, parse_since, plan_rerender

    settings = get_settings()
    plan = plan_rerender(settings.resolved_database_url, [AssetKind(k) for k in args.kind], parse_since(args.since),
                         tenant_id=args.tenant)
    for (execution_id, job_id), reason in sorted(plan.reasons.items()):
        print(f"stale: {execution_id} {job_id}: {reason}")
    if not plan.partitions:
        print("nothing is stale")
        return 0
    if args.dry_run:
        print(f"{len(plan.partitions)} execution(s) would be re-rendered")
        return 0
    for backfill in launch_rerender(DagsterLauncher(settings), plan, origin="cli"):
        print(f"launched backfill {backfill}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Bring executions the retention window archived back as Dagster partitions."""
    from vidassets.runs.launch import DagsterLauncher, LaunchError
    from vidassets.runs.restore import restore
    from vidassets.storage.partition_repo import PartitionRepository

    settings = get_settings()
    repo = PartitionRepository(settings.resolved_database_url)
    missing = [e for e in args.execution_id if repo.state(e, args.tenant) is None]
    if missing:
        print(f"not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        done = restore(DagsterLauncher(settings), list(args.execution_id), partitions=repo)
    except LaunchError as exc:
        print(f"Dagster is unavailable: {exc}", file=sys.stderr)
        return 1
    for execution_id in done.execution_ids:
        print(f"{execution_id}: {'restored' if execution_id in done.were_archived else 'already in Dagster'}")
    return 0


def _start(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from vidassets.stack import Stack, stack_env
    from vidassets.storage.migrate import upgrade

    settings = get_settings()
    upgrade(settings.resolved_database_url)
    env = stack_env(settings.data_dir, api_port=args.api_port, dagster_port=args.dagster_port)
    stack = Stack(env=env, api_port=args.api_port, dagster_port=args.dagster_port,
                  log_dir=settings.data_dir / "logs" if args.quiet else None)
    return settings, stack.start()


def cmd_run(args: argparse.Namespace) -> int:
    settings, stack = _start(args)
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        stack.wait_ready()
        print(f"vidassets API:     {stack.api_url}  (OpenAPI: {stack.api_url}/docs)")
        if settings.auth_enabled:
            print(f"API key:           {local_api_key(settings)}   (also in {settings.data_dir / 'api_key'})")
        print(f"Dagster UI:        {stack.dagster_url}")
        print(f"data:              {settings.data_dir.resolve()}   (Ctrl-C stops everything)")
        while not stopping:
            for name, proc in stack.procs.items():
                if proc.poll() is not None:
                    print(f"{name} exited with code {proc.returncode}; stopping", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from vidassets.demo import run_demo

    args.quiet = True
    settings, stack = _start(args)
    try:
        print("starting Dagster and the API (logs in .vidassets/logs) ...", flush=True)
        stack.wait_ready()
        print(f"Dagster UI: {stack.dagster_url}   API: {stack.api_url}")
        artefacts = settings.resolved_artefacts_dir if settings.artefact_store == "local" else None
        key = local_api_key(settings) if settings.auth_enabled else None
        run_demo(stack.api_url, artefacts, settings.data_dir / "demo", api_key=key)
        if args.keep:
            print("stack still running (Ctrl-C stops it)")
            while True:
                time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vidassets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    for name, func, help_text in (("run", cmd_run, "run Dagster (UI on :3001) and the API (:3000) in the foreground"),
                                  ("demo", cmd_demo, "run the stack and submit a sample plan")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--api-port", type=int, default=3000)
        p.add_argument("--dagster-port", type=int, default=3001)
        p.add_argument("--quiet", action="store_true", help="send process logs to .vidassets/logs")
        if name == "demo":
            p.add_argument("--keep", action="store_true", help="keep the stack running afterwards")
        p.set_defaults(func=func)
    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    create = keys_sub.add_parser("create", help="create a key (printed once)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--name", default="default")
    create.add_argument("--rate-limit", type=int, default=None, help="requests per minute for this key")
    listing = keys_sub.add_parser("list", help="list keys")
    listing.add_argument("--tenant", default=None)
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")
    keys.set_defaults(func=cmd_keys)
    rerender = sub.add_parser("rerender", help="re-render stale outputs as a partitioned backfill")
    rerender.add_argument("--kind", action="append", required=True,
                          choices=["generated_clips", "merged_cut", "reframed", "lipsynced", "subtitled"])
    rerender.add_argument("--since", default="7d", help="window of completed executions, e.g. 7d, 12h")
    rerender.add_argument("--tenant", default=None, help="only this tenant's executions")
    rerender.add_argument("--dry-run", action="store_true")
    rerender.set_defaults(func=cmd_rerender)
    restore = sub.add_parser("restore", help="bring archived executions back as Dagster partitions")
    restore.add_argument("execution_id", nargs="+")
    restore.add_argument("--tenant", default=None, help="only if they belong to this tenant")
    restore.set_defaults(func=cmd_restore)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
