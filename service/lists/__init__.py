"""Government lists and library releases: importing lists, linking their names to the
library with review, and publishing numbered releases of the libraries to banks."""
