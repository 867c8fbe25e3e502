"""Reading feed documents: fetch (with its address and size rules), parse, normalize. What the
network and a document say; no storage, queue or registered-feed imports."""
