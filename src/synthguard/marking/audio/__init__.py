"""Audio labels: decoding/encoding, the spoken or rhythm notice, GB 45438 metadata, the markers."""
