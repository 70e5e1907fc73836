/* sp/siphash.h -- placeholder. */
