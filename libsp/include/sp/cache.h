/* sp/cache.h -- placeholder. */
