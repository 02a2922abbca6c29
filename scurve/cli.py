"""Placeholder replaced by the CLI work in progress."""

import click


@click.group()
@click.version_option(package_name="scurve")
def main() -> None:
    """scurve: S-curves done right."""
