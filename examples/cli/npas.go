package main

// npas are some North American area codes (NPAs) and where they are: a
// small built-in table, so the example runs with no network.
var npas = map[string]string{
	"201": "NJ", "202": "DC", "203": "CT", "205": "AL", "206": "WA", "207": "ME",
	"208": "ID", "209": "CA", "210": "TX", "212": "NY", "213": "CA", "214": "TX",
	"215": "PA", "216": "OH", "217": "IL", "218": "MN", "219": "IN", "301": "MD",
	"302": "DE", "303": "CO", "304": "WV", "305": "FL", "307": "WY", "308": "NE",
	"309": "IL", "310": "CA", "312": "IL", "313": "MI", "314": "MO", "315": "NY",
	"316": "KS", "317": "IN", "318": "LA", "319": "IA", "401": "RI", "402": "NE",
	"404": "GA", "405": "OK", "406": "MT", "407": "FL", "408": "CA", "409": "TX",
	"410": "MD", "412": "PA", "413": "MA", "414": "WI", "415": "CA", "501": "AR",
	"502": "KY", "503": "OR", "504": "LA", "505": "NM", "512": "TX", "602": "AZ",
	"617": "MA", "702": "NV", "801": "UT", "802": "VT", "808": "HI", "907": "AK",
}
