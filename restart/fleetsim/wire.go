package fleetsim

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// apiError is an error as an AWS service reports it: HTTP status, error
// code and message.
type apiError struct {
	status  int
	code    string
	message string
	// sender is STS's <Type>: Sender for client faults, Receiver for ours.
	receiver bool
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func ecsError(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

var (
	errThrottled    = ecsError("ThrottlingException", "Rate exceeded")
	errServer       = &apiError{status: http.StatusInternalServerError, code: "ServerException", message: "Service Unavailable. Please try again later.", receiver: true}
	errInvalidToken = &apiError{status: http.StatusBadRequest, code: "UnrecognizedClientException", message: "The security token included in the request is invalid."}
	errExpiredToken = &apiError{status: http.StatusBadRequest, code: "ExpiredTokenException", message: "The security token included in the request is expired"}
	errMissingAuth  = &apiError{status: http.StatusBadRequest, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token"}
)

// writeJSONError writes an error the way AWS JSON 1.1 services do: the code
// both in the X-Amzn-ErrorType header and in the body's __type, which is
// what the SDK's deserializer reads (header first).
func writeJSONError(w http.ResponseWriter, reqID string, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-RequestId", reqID)
	h.Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.code, e.message})
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, reqID string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeJSONError(w, reqID, &apiError{status: 500, code: "ServerException", message: err.Error()})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-RequestId", reqID)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// stsError writes an error the way STS (awsQuery) does: an ErrorResponse
// document whose Error/Code the SDK maps to the API error code.
func writeXMLError(w http.ResponseWriter, reqID string, e *apiError) {
	typ := "Sender"
	if e.receiver {
		typ = "Receiver"
	}
	doc := struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Error   struct {
			Type    string
			Code    string
			Message string
		}
		RequestID string `xml:"RequestId"`
	}{Xmlns: stsNamespace, RequestID: reqID}
	doc.Error.Type, doc.Error.Code, doc.Error.Message = typ, e.code, e.message
	b, _ := xml.Marshal(doc)
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(e.status)
	w.Write(b)
}

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

func writeXML(w http.ResponseWriter, reqID string, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		writeXMLError(w, reqID, &apiError{status: 500, code: "InternalFailure", message: err.Error(), receiver: true})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-RequestId", reqID)
	w.Write(b)
}

// epoch is a timestamp as AWS JSON protocols send it: seconds since the
// Unix epoch, with a fraction.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1000, 'f', 3, 64), nil
}

func (t *epoch) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s: %w", b, err)
	}
	*t = epoch(time.UnixMilli(int64(f * 1000)).UTC())
	return nil
}
