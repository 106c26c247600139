"""Geography of Japan, offline: normaliser, gazetteer, geocoder, stations and distances.

Self-contained (like geopy): it imports nothing else of the project, so it can be read and
tested alone. The bundled open data and its licences are in index/geo/data/NOTICE.md.
"""
