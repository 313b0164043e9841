"""What gathers from every domain: the dashboard and the demo. Above all domains; none imports it."""
