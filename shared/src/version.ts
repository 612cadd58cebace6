/** This package's version, as published; a test keeps it equal to package.json's (bundles cannot read that file). */
export const VERSION = '0.1.0';
