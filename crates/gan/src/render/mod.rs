//! Images, plots and animations (work in progress).
