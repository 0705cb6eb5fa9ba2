package store

// ApplyDir applies the migrations of dir (tests bring their own directories).
var ApplyDir = (*Store).applyDir
