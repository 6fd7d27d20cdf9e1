"""Call control: the only writer of call state after creation, and the seam the SIP engine plugs into."""
