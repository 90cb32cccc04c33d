"""The built-in source types. Each is registered in the ``catalogue.harvesters`` entry-point
group, the same way a third-party package adds its own."""
