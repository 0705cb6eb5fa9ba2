package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"usersvc"
)

func userCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c config
	var in usersvc.NewUserInput
	var role string
	var pwStdin bool
	s := newSettings("user create", stderr)
	fs := s.fs
	commonFlags(s, &c)
	fs.StringVar(&in.Name, "name", "", "name")
	fs.StringVar(&in.Email, "email", "", "email")
	fs.StringVar(&in.Country, "country", "", "country")
	fs.StringVar(&in.TimeZone, "time-zone", "", "IANA time zone")
	fs.StringVar(&role, "role", "user", "user or admin")
	fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input")
	if err := s.parse(args); err != nil {
		return err
	}
	if role != "user" && role != "admin" {
		return fmt.Errorf("--role must be user or admin, not %q", role)
	}
	in.Role = usersvc.Role(role)
	if pwStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("reading the password: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		in.Password = &pw
	}
	st, err := open(ctx, &c, false, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := usersvc.NewService(st).CreateUser(usersvc.SystemContext(ctx), in.Document())
	if err != nil {
		return flagError(err, in)
	}
	fmt.Fprintln(stdout, u.ID)
	return nil
}

// userList prints the users matching the filter, one a line: id, email,
// role and whether they can use the API now (an operator finds an admin's
// id with it to issue a token: see README, Recovering admin access).
func userList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	var role, email string
	var deleted bool
	s := newSettings("user list", stderr)
	fs := s.fs
	commonFlags(s, &c)
	fs.StringVar(&role, "role", "", "only users with this role (user or admin)")
	fs.StringVar(&email, "email", "", "only the user with this email (case-insensitive)")
	fs.BoolVar(&deleted, "deleted", false, "list soft-deleted users instead of live ones")
	if err := s.parse(args); err != nil {
		return err
	}
	f := usersvc.UserFilter{Deleted: deleted}
	switch role {
	case "":
	case "user", "admin":
		r := usersvc.Role(role)
		f.Role = &r
	default:
		return fmt.Errorf("--role must be user or admin, not %q", role)
	}
	if email != "" {
		f.Email = &email
	}
	st, err := open(ctx, &c, false, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := usersvc.NewService(st)
	sys := usersvc.SystemContext(ctx)
	first := int64(100)
	var after *string
	for {
		page, err := svc.ListUsers(sys, f, &first, after, false, false)
		if err != nil {
			return err
		}
		for _, u := range page.Users {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, svc.AccountStatus(u))
		}
		if page.NextCursor == nil {
			return nil
		}
		after = page.NextCursor
	}
}

func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	var userID, label, scope string
	var ttl time.Duration
	s := newSettings("token create", stderr)
	fs := s.fs
	commonFlags(s, &c)
	fs.StringVar(&userID, "user", "", "the owner's user id")
	fs.StringVar(&label, "label", "", "a label for the token")
	fs.StringVar(&scope, "scope", "", `"scim": a provisioning key, accepted only by /scim/v2 (its owner must be an admin); none: everywhere`)
	fs.DurationVar(&ttl, "ttl", 720*time.Hour, "lifetime; 0 for none")
	if err := s.parse(args); err != nil {
		return err
	}
	if userID == "" {
		return errors.New("--user is required")
	}
	st, err := open(ctx, &c, false, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	tok, err := usersvc.NewService(st).CreateScopedToken(usersvc.SystemContext(ctx), userID, label, ttl, usersvc.TokenScope(scope))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// createFlags names the flag of each field user create sets.
var createFlags = map[string]string{"name": "--name", "email": "--email", "country": "--country", "timeZone": "--time-zone", "role": "--role", "password": "--password-stdin"}

// flagError says a field error of user create in terms of its flag:
// "--name is required", and for a misspelt zone the nearest real one.
func flagError(err error, in usersvc.NewUserInput) error {
	var e *usersvc.Error
	if !errors.As(err, &e) || e.Code != usersvc.EInvalid || createFlags[e.Field] == "" {
		return err
	}
	flag := createFlags[e.Field]
	value := map[string]string{"name": in.Name, "email": in.Email, "country": in.Country, "timeZone": in.TimeZone}[e.Field]
	switch {
	case strings.TrimSpace(value) == "" && e.Field != "password":
		return fmt.Errorf("%s is required", flag)
	case e.Field == "timeZone":
		if near := nearestZone(in.TimeZone); near != "" {
			return fmt.Errorf("%s: unknown time zone %q; did you mean %q?", flag, in.TimeZone, near)
		}
		return fmt.Errorf("%s: unknown time zone %q (IANA names such as Europe/Madrid; GET /api/users/timeZones lists them)", flag, in.TimeZone)
	}
	return fmt.Errorf("%s: %s", flag, err.Error())
}

// nearestZone is the known time zone closest to name (at most 3 edits,
// ignoring case), or "".
func nearestZone(name string) string {
	best, bestD := "", 4
	for _, z := range usersvc.TimeZones() {
		if d := editDistance(strings.ToLower(name), strings.ToLower(z)); d < bestD {
			best, bestD = z, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
