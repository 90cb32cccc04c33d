"""OGC API Features and Records, published through pygeoapi with this project's providers."""
