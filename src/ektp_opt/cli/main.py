"""The ``ektp-opt`` command: a thin layer over the library.

Every command turns a user's mistake into one line on stderr and an exit code from
``errors.ExitCode``; a traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import click

from ektp_opt import __version__
from ektp_opt.cli.commands.bench import bench as bench_command
from ektp_opt.cli.commands.campaign import campaign as campaign_command
from ektp_opt.cli.commands.capacity import capacity as capacity_command
from ektp_opt.cli.commands.generate import generate as generate_command
from ektp_opt.cli.commands.national import national as national_command
from ektp_opt.cli.commands.report import invitations as invitations_command
from ektp_opt.cli.commands.report import report as report_command
from ektp_opt.cli.commands.report import roster as roster_command
from ektp_opt.cli.commands.resolve import resolve as resolve_command
from ektp_opt.cli.commands.scenario import scenario as scenario_command
from ektp_opt.cli.commands.simulate import simulate as simulate_command
from ektp_opt.cli.commands.solve import solve as solve_command
from ektp_opt.cli.commands.verify import verify as verify_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ektp-opt")
@click.option("--debug", is_flag=True, help="Show Python tracebacks (for bug reports).")
def main(debug: bool) -> None:
    """Plan a citywide e-KTP enrolment campaign, and prove how good the plan is.

    \b
    Typical use:
      ektp-opt scenario data/medan/medan-2011.toml      # what is being planned
      ektp-opt solve --out plans/medan                  # plan the default Medan scenario
      ektp-opt verify plans/medan                       # check it against SPEC.md's hard rules
      ektp-opt capacity data/medan/medan-2011-actual.toml  # when is the deadline impossible?
      ektp-opt resolve --plan plans/medan --scenario data/medan/medan-2011-slip.toml \\
          --as-of 2011-09-05 --out plans/medan-slip     # plan again, moving the fewest KK
      ektp-opt simulate plans/medan --late-rate 0.1     # can the backlog absorb late arrivals?
      ektp-opt report plans/medan --out medan.html      # the plan for people: charts and tables

    SCENARIO may be a file or the name of a scenario shipped with ektp-opt: medan-2011 (the
    default), medan-2011-actual, medan-2011-slip, medan-2011-homevisits, medan-10k,
    medan-10k-homevisits.

    \b
    Exit codes: 0 ok · 1 internal error · 2 usage · 3 bad input file ·
    4 deadline cannot be met (diagnosis.json written) · 5 plan breaks a hard rule ·
    6 time limit reached with no plan · 130 interrupted · 143 terminated.
    """
    from ektp_opt.cli.console import set_quiet

    set_quiet(False)  # each command starts speaking; its own --quiet (parsed after this) may hush it


main.add_command(generate_command)
main.add_command(scenario_command)
main.add_command(solve_command)
main.add_command(verify_command)
main.add_command(capacity_command)
main.add_command(simulate_command)
main.add_command(resolve_command)
main.add_command(bench_command)
main.add_command(national_command)
main.add_command(report_command)
main.add_command(invitations_command)
main.add_command(roster_command)
main.add_command(campaign_command)


if __name__ == "__main__":  # pragma: no cover
    main()
