/* exthdr.c -- placeholder until the module lands. */
