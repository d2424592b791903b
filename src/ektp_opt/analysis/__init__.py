"""Questions asked of a scenario or a plan: capacity (when can it finish, how many more devices),
late arrivals (Monte Carlo of the backlog) and the backlog sizing recommendation."""
