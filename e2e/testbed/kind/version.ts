// The kind release whose contract the testbed's kind follows (its default node image, v1.32.2, is the stand-in's version).
export const KIND_VERSION = 'v0.27.0';
