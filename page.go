package usersvc

// Page sizes of lists and histories, for both transports.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// PageItems is how many items a page asked for with first may hold: the
// page size, or its nearest bound when first is out of range (such a
// request is refused, and costs no more than the largest page meanwhile).
// Query cost limits use it.
func PageItems(first *int64) int {
	if first == nil {
		return DefaultPageSize
	}
	return int(min(max(*first, 1), MaxPageSize))
}

func pageSize(first *int64) (int, error) {
	if first == nil {
		return DefaultPageSize, nil
	}
	if *first < 1 || *first > MaxPageSize {
		return 0, FieldErrorf(EInvalid, "first", "Page size must be between 1 and %d.", MaxPageSize)
	}
	return int(*first), nil
}

// OffsetPage reads SCIM's startIndex (1-based) and count into an offset
// and a limit: startIndex below 1 is 1, count below 0 is 0 (only the
// total), and count past MaxPageSize, or absent, is MaxPageSize, the
// largest page (SCIM says to answer fewer rather than refuse).
func OffsetPage(startIndex, count *int64) (offset, limit int) {
	limit = MaxPageSize
	if count != nil {
		limit = int(min(max(*count, 0), MaxPageSize))
	}
	if startIndex != nil && *startIndex > 1 {
		offset = int(min(*startIndex-1, maxOffset))
	}
	return offset, limit
}

// maxOffset bounds how far into a list a page may start.
const maxOffset = 1 << 30
