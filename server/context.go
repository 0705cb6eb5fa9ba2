package server

import "context"

func contextWithRecorder(ctx context.Context, rec *statusRecorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, rec)
}
