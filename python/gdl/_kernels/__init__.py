"""gdl's compiled kernels: one extension module per family (see ``gdl._build_info``)."""
